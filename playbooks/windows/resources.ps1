$cpu = @(wo_wmi Win32_Processor)
$n = ($cpu | Measure-Object -Property NumberOfLogicalProcessors -Sum).Sum
"cpus=$n"
# Windows keeps no load average: busy logical CPUs plus the threads
# waiting in the processor queue is its nearest equivalent
$busy = ($cpu | Measure-Object -Property LoadPercentage -Average).Average
$q = (wo_wmi Win32_PerfFormattedData_PerfOS_System).ProcessorQueueLength
if ($n -gt 0 -and $busy -ne $null) { "load1=$(wo_num ($n * $busy / 100 + $q))" }
$os = wo_wmi Win32_OperatingSystem
if ($os.TotalVisibleMemorySize -gt 0) { "mem_available_pct=$(wo_num (100 * $os.FreePhysicalMemory / $os.TotalVisibleMemorySize))" }
