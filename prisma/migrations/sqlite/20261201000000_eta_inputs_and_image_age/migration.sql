-- AlterTable
ALTER TABLE "Job" ADD COLUMN "pixels" INTEGER;

-- AlterTable
ALTER TABLE "Worker" ADD COLUMN "speed" REAL;

-- CreateIndex
CREATE INDEX "Image_createdAt_idx" ON "Image"("createdAt");
